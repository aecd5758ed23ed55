"""Slack's failures sorted into the outbox sender's two kinds: permanent (retrying cannot help) and transient
(try again, after Retry-After when Slack gave one). The sender decides what to do; this module only sorts.

Slack limits each method on its own (pacing.py), so a wait concerns the whole platform only when it is about
posting (chat.postMessage); a look-up that is rate limited, or whose tier has no slot yet, delays its one message.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import ClientError
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.platforms.base import DeliveryError, PermanentError, TransientError
from bot.platforms.slack.pacing import POST_MESSAGE, MethodBusy, retry_after

# Slack error codes that a retry cannot fix (the channel, the person or the credentials are wrong or gone).
PERMANENT = frozenset(
    {
        "not_in_channel",
        "channel_not_found",
        "is_archived",
        "invalid_auth",
        "not_authed",
        "token_revoked",
        "token_expired",
        "account_inactive",
        "user_not_found",
        "users_not_found",
        "user_disabled",
        "missing_scope",
        "restricted_action",
        "cannot_dm_bot",
        "invalid_blocks",
        "msg_too_long",
        "message_not_found",
        "cant_update_message",
    }
)
# Slack error codes that mean "not now" even though the HTTP status was 200.
TRANSIENT = frozenset({"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"})


def classify(error: SlackApiError) -> DeliveryError:
    response = error.response
    status = getattr(response, "status_code", 0) or 0
    code = str(response.get("error") or "") if isinstance(getattr(response, "data", None), dict) else ""
    if status == 429 or code == "ratelimited":
        method = str(getattr(response, "api_url", "") or "").rstrip("/").rsplit("/", 1)[-1]
        return TransientError(
            code or "ratelimited",
            retry_after=retry_after(response.headers),
            whole_platform=method in ("", POST_MESSAGE),
            nothing_sent=True,
        )
    if status >= 500:
        return TransientError(f"HTTP {status} {code}".strip())
    if code in TRANSIENT:
        return TransientError(code)
    if code in PERMANENT or code:
        # Any other error code Slack answers with HTTP 200 is about the request itself (bad arguments, a missing
        # permission): the same request will fail the same way, so it is recorded instead of retried.
        return PermanentError(code)
    return TransientError(f"HTTP {status} without an error code")


def busy(error: MethodBusy) -> TransientError:
    """No slot for the method yet (its tier, or an earlier Retry-After): nothing was sent; try when one frees."""
    return TransientError(
        f"{error.method}: waiting {error.wait:.0f} s for Slack's rate limit",
        retry_after=error.wait,
        whole_platform=error.method == POST_MESSAGE,
        nothing_sent=True,
    )


@asynccontextmanager
async def sorted_errors() -> AsyncIterator[None]:
    """Wrap Web API calls: SDK and network failures come out as PermanentError or TransientError."""
    try:
        yield
    except SlackApiError as error:
        raise classify(error) from error
    except MethodBusy as error:
        raise busy(error) from error
    except (ClientError, TimeoutError, SlackClientError) as error:
        raise TransientError(f"{type(error).__name__}: {error}") from error
