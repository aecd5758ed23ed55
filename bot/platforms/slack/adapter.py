"""The Slack platform: a bolt AsyncApp that turns slash commands, button presses, modal submissions and events into
neutral Commands, Actions and Events, shows the neutral Replies, and serves HTTP (/slack/events) or Socket Mode.

Every listener acknowledges first and works after, in a tracked background task that also yields to requests still
waiting for their acknowledgement, so Slack always gets its answer within 3 seconds, even in a burst.
Sending for the outbox is in outbound.py, Block Kit in renderer.py, identities in people.py.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import re
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextvars import ContextVar
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, TypeVar

from aiohttp import ClientSession, ClientTimeout, web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.webhook.async_client import AsyncWebhookClient
from sqlalchemy.exc import OperationalError

from bot.addresses import Destination, SentRef
from bot.clock import Clock
from bot.inbound import Action, Command, Event, Reply
from bot.messages import Message
from bot.metrics import count
from bot.platforms.base import Inbound, Pacing, Platform, private_parts, problems_message
from bot.platforms.slack import renderer
from bot.platforms.slack.install import COMMAND, EVENTS
from bot.platforms.slack.outbound import SlackOutbound
from bot.platforms.slack.pacing import PacedWebClient, Pacer
from bot.platforms.slack.people import SlackDirectory
from bot.platforms.slack.verify import SlackGate
from bot.runtime import Runtime
from bot.store.inbound import first_delivery, forget_delivery, seen_deliveries

log = logging.getLogger(__name__)
# bolt's own log: it writes whole request bodies (user ids, survey comments) at INFO, so only warnings are kept.
bolt_log = logging.getLogger(f"{__name__}.bolt")
bolt_log.setLevel(logging.WARNING)
T = TypeVar("T")

PLATFORM = "slack"
# view_submission must be answered within 3 seconds, and only then can it keep the modal open with errors: the
# handler gets this long to decide; after that the modal closes and its answer follows as a private message.
VIEW_DEADLINE = 2.0
DOUBLE_CLICK_WINDOW = timedelta(seconds=3)
HANDLER_CONCURRENCY = 1
FOLLOW_UP_CONCURRENCY = 8  # enough to overlap Slack's network latency, few enough to leave the loop to acks
ACKS_FIRST_WAIT = 0.5  # follow-up work waits at most this long for a burst of requests to be acknowledged
QUIET = 0.02  # ...that is, for this long without a new request
# The gate's key of the HTTP request being handled: the work it starts records it (_once), after the acknowledgement.
REQUEST: ContextVar[str | None] = ContextVar("slack_request", default=None)
# The record of a request already acknowledged: a worker's long transaction on SQLite may hold the write lock past
# busy_timeout (a niced worker descheduled mid-transaction), and the person's answer is worth waiting for.
RECORD_ATTEMPTS = 4
FOLLOW_UP: ContextVar[bool] = ContextVar("slack_follow_up", default=False)  # work started after an acknowledgement


MENTION = re.compile(r"<@([A-Za-z0-9._-]+)(?:\|[^>]*)?>")


def slack_unescape(text: str) -> str:
    """Text as Slack sends it (`&`, `<` and `>` as entities) back to what the person typed: literal text, which every
    renderer escapes again on the way out."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def normalise_mentions(text: str, members: Mapping[str, str | None]) -> str:
    """Slack user mentions in `text` as `@<member key>`, for the users `members` maps to a member."""
    return MENTION.sub(lambda m: f"@{members[m[1]]}" if members.get(m[1]) else m[0], text)


class Once:
    """Keys seen within a time window in this process: a double click finds its key and does nothing."""

    def __init__(self, clock: Clock, window: timedelta) -> None:
        self.clock = clock
        self.window = window
        self._seen: dict[str, datetime] = {}

    def first(self, key: str) -> bool:
        now = self.clock.now()
        if len(self._seen) > 10_000:
            self._seen = {k: at for k, at in self._seen.items() if now - at < self.window}
        at = self._seen.get(key)
        if at is not None and now - at < self.window:
            return False
        self._seen[key] = now
        return True

    def forget(self, key: str) -> None:
        self._seen.pop(key, None)


@dataclass(frozen=True)
class Where:
    """Where a person acted, so a Reply can be shown there."""

    user: str
    channel: str | None = None
    response_url: str | None = None
    trigger_id: str | None = None
    message_ts: str | None = None
    ephemeral: bool = False  # the button sat in an ephemeral message: only response_url can replace it
    home: bool = False  # the button sat in the App Home view


def _object(text: object) -> dict[str, Any]:
    """Our own JSON (a modal's private_metadata) read back; anything else reads as empty."""
    try:
        found = json.loads(text) if isinstance(text, str) and text else {}
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def _refused(status: int, reason: str) -> web.Response:
    _note_refusal(status, reason)
    return web.json_response({"error": "invalid request"}, status=status)


def _note_refusal(status: int, reason: str) -> None:
    """One WARNING line with the reason, never the body (it may hold who answered what)."""
    log.warning("Slack request refused with %d: %s", status, reason)
    count("partnerbot_inbound_refused_total", "inbound requests refused", platform=PLATFORM, status=str(status))


class SlackPlatform(Platform):
    name = PLATFORM
    pacing = Pacing(interval=1.0)  # Slack's chat.postMessage allows about one message per second per channel

    def __init__(
        self,
        *,
        token: str,
        signing_secret: str,
        app_token: str | None,
        api_url: str,
        runtime: Runtime,
        inbound: Inbound,
        messages_per_second: float = 0.0,
    ) -> None:
        self.rt = runtime
        self.inbound = inbound
        self.signing_secret = signing_secret
        self.app_token = app_token
        # No SDK retries: a retried chat.postMessage could post twice; the outbox sender retries, after checking.
        # Every call, ours and bolt's, is paced by its method's tier (pacing.py).
        self.pacer = Pacer(runtime.clock, messages_per_second=messages_per_second)
        self.client = PacedWebClient(self.pacer, token=token, base_url=api_url, timeout=10, retry_handlers=[])
        self.directory = SlackDirectory(self.client, runtime, inbound)
        self.outbound = SlackOutbound(self.client, self.directory)
        # Each listener acknowledges first and only starts its work (_spawn), so bolt runs it inline and answers when
        # it returns; by default bolt starts it as a task and polls every 10 ms for the acknowledgement. The gate
        # (verify.py) has checked the signature of every HTTP request before bolt sees it, so bolt does not again.
        self.bolt = AsyncApp(
            client=self.client,
            signing_secret=signing_secret,
            logger=bolt_log,
            process_before_response=True,
            request_verification_enabled=False,
        )
        self.gate = SlackGate(signing_secret, self._seen_before)
        self._double_clicks = Once(runtime.clock, DOUBLE_CLICK_WINDOW)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._socket: Any = None
        self._session: ClientSession | None = None
        self._in_flight = 0  # HTTP requests from Slack not yet answered
        self._last_request = 0.0  # event-loop time of the latest request from Slack
        self._handler_slots = asyncio.Semaphore(HANDLER_CONCURRENCY)
        self._follow_up_slots = asyncio.Semaphore(FOLLOW_UP_CONCURRENCY)
        self._gate_reads: ThreadPoolExecutor | None = None
        self._answering: set[str] = set()  # gate keys of the requests not yet answered
        self._own_records: set[str] = set()  # ...of those, the ones their own work is recording (or has recorded)
        self._register()

    # --- the port: sending for the outbox --------------------------------------------------------------------

    async def deliver(self, destination: Destination, message: Message, key: str) -> SentRef:
        self._connect()
        return await self.outbound.deliver(destination, message, key)

    async def update(self, ref: SentRef, message: Message) -> None:
        self._connect()
        await self.outbound.update(ref, message)

    async def find_delivered(self, destination: Destination, key: str) -> SentRef | None:
        self._connect()
        return await self.outbound.find_delivered(destination, key)

    def _connect(self) -> None:
        """One HTTP session (keep-alive connections) for every Web API and response_url call, opened on first use
        inside the event loop; without it the SDK opens and closes a session per call."""
        if self._session is None or self._session.closed:
            self._session = ClientSession(timeout=ClientTimeout(total=10))
            self.client.session = self._session

    # --- connections -----------------------------------------------------------------------------------------

    def add_routes(self, router: Any) -> None:
        if self.signing_secret:
            router.add_post("/slack/events", self._http)

    async def _http(self, request: web.Request) -> web.Response:
        self._connect()
        self._in_flight += 1
        self._last_request = asyncio.get_running_loop().time()
        key: str | None = None
        try:
            body = await request.read()
            refusal = self.gate.refusal(request.headers, body)
            if refusal is not None:
                return _refused(401, refusal)
            key = self.gate.delivery_key(request.headers)
            REQUEST.set(key)  # recorded by the work it starts (_once)
            # The shared record is read while bolt works out the acknowledgement, not before: the acknowledgement
            # waits for the database only as long as the read outlasts bolt. What bolt starts meanwhile for a replay
            # finds its request recorded after the acknowledgement and does nothing.
            seen = asyncio.ensure_future(self.gate.seen_elsewhere(key))
            self._answering.add(key)
            try:
                response = await self._dispatch(body, request)
            except BaseException:
                seen.cancel()
                raise
            # The read may come after this request's own record (a modal's, made before its acknowledgement).
            if await seen and key not in self._own_records:
                return _refused(401, "a replay of a request already received")
            return response
        finally:
            self._in_flight -= 1
            if key is not None:
                self._answering.discard(key)
                self._own_records.discard(key)

    async def _dispatch(self, body: bytes, request: web.Request) -> web.Response:
        try:
            bolt_request = AsyncBoltRequest(
                body=body.decode("utf-8"),
                query=request.query_string,
                headers=request.headers,  # type: ignore[arg-type]
            )
        except Exception as error:  # signed, yet not a body Slack sends (not UTF-8, a payload that is no object)
            return _refused(400, f"a signed request whose body cannot be read ({type(error).__name__})")
        try:
            response = await self.bolt.async_dispatch(bolt_request)
        except Exception as error:  # bolt itself tripped over a signed body of a shape Slack never sends
            return _refused(400, f"a signed request of an unexpected shape ({type(error).__name__})")
        return await to_aiohttp_response(response)

    async def start(self) -> None:
        self._connect()
        self.directory.refresh()  # read the workspace directory now, so the first fan-out finds everyone
        if self.app_token:
            from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

            self._socket = AsyncSocketModeHandler(self.bolt, self.app_token)
            await self._socket.connect_async()
            log.info("Slack Socket Mode connected")

    async def stop(self) -> None:
        if self._socket is not None:
            await self._socket.close_async()
            self._socket = None
        self.directory.stop()
        await self.settle()
        if self._session is not None:
            await self._session.close()
            self._session = None
            self.client.session = None
        if self._gate_reads is not None:
            self._gate_reads.shutdown(wait=False)
            self._gate_reads = None

    async def settle(self) -> None:
        """Wait for the work started after acknowledgements and a directory read (tests and a clean shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
        await self.directory.settle()

    async def _after_acks(self) -> None:
        """Acknowledgements first: in a burst (a whole meeting answering one poll) follow-up work waits until
        requests stop arriving for a moment, up to ACKS_FIRST_WAIT, instead of competing with their acks."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + ACKS_FIRST_WAIT
        while loop.time() < deadline and (self._in_flight or loop.time() - self._last_request < QUIET):
            await asyncio.sleep(QUIET)

    async def _step_aside(self) -> None:
        """Follow-up work about to take a thread lets requests that arrived meanwhile be acknowledged first (up to
        ACKS_FIRST_WAIT): on a busy host, one burst's follow-ups may still run when the next burst comes."""
        if not FOLLOW_UP.get():
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + ACKS_FIRST_WAIT
        while self._in_flight and loop.time() < deadline:
            await asyncio.sleep(QUIET)

    async def _handled(self, call: Awaitable[T]) -> T:
        """The neutral handlers run in threads; a few at a time, so that in a burst they do not starve the event
        loop (and the acknowledgements it sends) of the interpreter lock."""
        async with self._handler_slots:
            await self._step_aside()
            return await call

    def _spawn(self, work: Coroutine[Any, Any, Any], *, after_acks: bool = True) -> asyncio.Task[Any]:
        async def logged() -> Any:
            try:
                if not after_acks:
                    return await work
                FOLLOW_UP.set(True)
                await self._after_acks()
                async with self._follow_up_slots:  # and never so many at once that acks queue behind them
                    return await work
            except Exception:
                log.exception("Slack: work after an acknowledgement failed")
                return None

        task = asyncio.ensure_future(logged())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # --- listeners: acknowledge, then work --------------------------------------------------------------------

    def _register(self) -> None:
        self.bolt.error(self._on_bolt_error)
        # Bolt tries listeners in this order: button presses, which come in bursts, match the first.
        self.bolt.action(re.compile(".*"))(self._on_action)
        self.bolt.command(COMMAND)(self._on_command)
        self.bolt.view_submission(renderer.FORM_CALLBACK)(self._on_view_submission)
        event_listeners: Mapping[str, Callable[..., Awaitable[None]]] = {
            "app_home_opened": self._on_home_opened,
            "member_joined_channel": self._on_member_joined,
        }
        assert tuple(event_listeners) == EVENTS, "the manifest's events and the listeners must agree"
        for event, listener in event_listeners.items():
            self.bolt.event(event)(listener)

    @staticmethod
    async def _on_bolt_error(error: Exception) -> BoltResponse:
        """A signed request whose shape no listener (or bolt itself) expected: refused, not a 5xx."""
        _note_refusal(400, f"a signed request of an unexpected shape ({type(error).__name__})")
        return BoltResponse(status=400, body="")

    async def _on_command(self, ack: Any, body: dict[str, Any]) -> None:
        await ack()
        if not body.get("user_id"):
            return
        where = Where(body["user_id"], body.get("channel_id"), body.get("response_url"), body.get("trigger_id"), None)
        self._spawn(self._once(None, self._command(body.get("text") or "", where)))

    async def _command(self, text: str, where: Where) -> None:
        member = await self.directory.member_for(where.user)
        team = self.inbound.team_for_channel(PLATFORM, where.channel)
        text = slack_unescape(await self._normalise_mentions(text.strip()))
        reply = await self._handled(
            self.inbound.command(Command(PLATFORM, where.user, member, text, where.channel, team))
        )
        await self._show(reply, where)

    async def _normalise_mentions(self, text: str) -> str:
        """Routines never see Slack's mention syntax: `<@U123|maria>` becomes `@<member key>` when the person is a
        known member (otherwise it stays as Slack wrote it)."""
        users = set(MENTION.findall(text))
        if not users:
            return text
        members = {user: await asyncio.to_thread(self.inbound.member_for, PLATFORM, user) for user in users}
        return normalise_mentions(text, members)

    async def _on_action(self, ack: Any, body: dict[str, Any]) -> None:
        await ack()
        pressed = (body.get("actions") or [None])[0]
        user = (body.get("user") or {}).get("id")
        if not isinstance(pressed, dict) or not user or "action_id" not in pressed:
            return
        container = body.get("container") or {}
        message_ts = container.get("message_ts") or (body.get("message") or {}).get("ts")
        channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
        action_id = renderer.neutral_action_id(pressed["action_id"])
        value = pressed.get("value") or (pressed.get("selected_option") or {}).get("value") or ""
        place = channel or container.get("view_id") or ""
        if not self._double_clicks.first(f"press:{user}:{place}:{message_ts}:{action_id}:{value}"):
            return
        delivery = f"action:{user}:{pressed.get('action_ts')}"
        where = Where(
            user,
            channel,
            body.get("response_url"),
            body.get("trigger_id"),
            message_ts,
            ephemeral=bool(container.get("is_ephemeral")),
            home=(body.get("view") or {}).get("type") == "home",
        )
        if action_id == renderer.OPEN_FORM:
            self._spawn(self._once(delivery, self._open_form(renderer.unpack_form(value), where)))
            return
        self._spawn(self._once(delivery, self._action(action_id, value, {}, where)))

    async def _action(self, action_id: str, value: str, form: Mapping[str, str], where: Where) -> Reply:
        reply = await self._handled(self.inbound.action(await self._neutral_action(action_id, value, form, where)))
        await self._show(reply, where)
        return reply

    async def _neutral_action(self, action_id: str, value: str, form: Mapping[str, str], where: Where) -> Action:
        member = await self.directory.member_for(where.user)
        ref = SentRef(PLATFORM, where.channel, where.message_ts) if where.channel and where.message_ts else None
        team = self.inbound.team_for_channel(PLATFORM, where.channel)
        return Action(PLATFORM, where.user, member, action_id, value, dict(form), ref, where.channel, team)

    async def _open_form(self, form: Any, where: Where) -> None:
        context = {"channel": where.channel or "", "ts": where.message_ts or "", "response_url": where.response_url}
        view = renderer.modal(form, {k: v for k, v in context.items() if v})
        await self.client.views_open(trigger_id=where.trigger_id, view=view)

    async def _on_view_submission(self, ack: Any, body: dict[str, Any], view: dict[str, Any]) -> None:
        user = (body.get("user") or {}).get("id")
        once_key = f"view:{view.get('id')}:{view.get('hash')}"
        if not user or not await self._first_delivery_of(once_key):
            await ack()
            return
        meta = _object(view.get("private_metadata"))
        where = Where(user, meta.get("channel") or None, meta.get("response_url"), None, meta.get("ts") or None)
        values = renderer.form_values((view.get("state") or {}).get("values") or {})
        action = await self._neutral_action(meta.get("action_id", ""), meta.get("value", ""), values, where)
        handled = self._spawn(self._handled(self.inbound.action(action)), after_acks=False)  # this request waits for it
        try:
            reply: Reply | None = await asyncio.wait_for(asyncio.shield(handled), VIEW_DEADLINE)
        except TimeoutError:
            await ack()  # too slow to keep the modal open: close it and show the answer when it comes
            self._spawn(self._show_later(handled, where))
            return
        if reply is None:  # the handler failed (logged); close the modal rather than leave it spinning
            await ack()
            return
        if reply.errors:
            # The person fixes the fields and submits this view again, under the same key.
            await asyncio.to_thread(forget_delivery, self.rt.db, self.rt.key, f"slack:{once_key}")
            await ack(response_action="errors", errors=renderer.modal_errors(reply.errors))
            return
        if reply.form is not None:
            await ack(response_action="update", view=renderer.modal(reply.form, meta))
            reply = replace(reply, form=None)
        else:
            await ack()
        self._spawn(self._show(reply, where))

    async def _show_later(self, handled: asyncio.Task[Reply | None], where: Where) -> None:
        reply = await handled
        if reply is not None:
            private = problems_message(reply.errors, "Your form was not saved:") if reply.errors else reply.private
            await self._show(replace(reply, errors={}, form=None, private=private), where)

    async def _on_home_opened(self, ack: Any, body: dict[str, Any], event: dict[str, Any]) -> None:
        await ack()
        if event.get("tab", "home") == "home" and event.get("user"):
            self._spawn(self._once(self._event_key(body), self._publish_home(event["user"])))

    async def _publish_home(self, user: str) -> None:
        member = await self.directory.member_for(user)
        view = await self._handled(self.inbound.home(member or ""))
        await self.client.views_publish(user_id=user, view=renderer.home(view))

    async def _on_member_joined(self, ack: Any, body: dict[str, Any], event: dict[str, Any]) -> None:
        await ack()
        if not event.get("user"):
            return
        self._spawn(self._once(self._event_key(body), self._member_joined(event)))

    async def _member_joined(self, event: dict[str, Any]) -> None:
        where = Where(event["user"], event.get("channel"))
        member = await self.directory.member_for(where.user)
        team = self.inbound.team_for_channel(PLATFORM, where.channel)
        event = Event(PLATFORM, "member_joined", where.user, member, where.channel, team)
        reply = await self._handled(self.inbound.event(event))
        if reply is not None:
            await self._show(reply, where)

    @staticmethod
    def _event_key(body: dict[str, Any]) -> str | None:
        """Slack redelivers an event it thinks we missed (X-Slack-Retry-Num); its event_id stays the same."""
        event_id = body.get("event_id")
        return f"event:{event_id}" if event_id else None

    async def _once(self, delivery: str | None, work: Coroutine[Any, Any, Any]) -> Any:
        """Do `work` unless this delivery, or the request that carried it, was acted on before (here or on another
        replica). Runs after the acknowledgement: the record is a write, which may wait for a worker's transaction."""
        if await self._first_delivery_of(delivery):
            return await work
        work.close()
        return None

    async def _first_delivery_of(self, delivery: str | None) -> bool:
        """A redelivery may reach another replica, so the record is the shared database's, not this process's. The
        request's own key (from the gate) is recorded with the delivery's, in one transaction."""
        request = REQUEST.get()
        keys = [f"slack:{key}" for key in (delivery, request) if key]
        if not keys:
            return True
        await self._step_aside()
        if request in self._answering:  # the gate's read of the shared record may meet this record: not a replay
            self._own_records.add(request)
        first = False
        try:
            first = await self._record(keys)
        finally:
            if not first and request is not None:
                self._own_records.discard(request)
        return first

    async def _record(self, keys: list[str]) -> bool:
        attempt = 1
        while True:
            try:
                return await asyncio.to_thread(first_delivery, self.rt.db, self.rt.key, keys, self.rt.clock.now())
            except OperationalError as error:  # SQLite: another process held the write lock past busy_timeout
                if attempt >= RECORD_ATTEMPTS:
                    raise
                attempt += 1
                log.warning("Slack: could not record a delivery yet (%s); trying again", str(error.orig).strip())

    async def _seen_before(self, keys: Sequence[str]) -> set[str]:
        """The gate's look-up, in a thread of its own: the shared pool's may all be waiting for a worker's write
        transaction (a follow-up's record or handler), and an acknowledgement must not queue behind them."""
        if self._gate_reads is None:
            self._gate_reads = ThreadPoolExecutor(1, thread_name_prefix="slack-gate")
        named = {f"slack:{key}": key for key in keys}
        read = functools.partial(seen_deliveries, self.rt.db, self.rt.key, list(named), self.rt.clock.now())
        seen = await asyncio.get_running_loop().run_in_executor(self._gate_reads, read)
        return {named[key] for key in seen}

    # --- showing a Reply ---------------------------------------------------------------------------------------

    async def _show(self, reply: Reply, where: Where) -> None:
        """Each part on its own: a message that can no longer be updated must not swallow the private answer."""
        parts: list[Awaitable[None]] = []
        if reply.update is not None:
            parts.append(self._replace(reply.update, where))
        if reply.public is not None:
            parts.append(self._post(reply.public, where))
        if reply.form is not None and where.trigger_id:
            parts.append(self._open_form(reply.form, where))
        # Without a trigger to open a modal with, the form comes as a private message whose button opens it.
        parts += [self._private(message, where) for message in private_parts(reply, form_opens=bool(where.trigger_id))]
        for part in parts:
            try:
                await part
            except Exception:
                log.exception("Slack: could not show part of a reply to %s", where.user)

    async def _replace(self, message: Message, where: Where) -> None:
        if where.home:
            await self._publish_home(where.user)
        elif where.ephemeral and where.response_url:
            await self._respond(where.response_url, message, replace_original=True)
        elif where.channel and where.message_ts:
            await self.client.chat_update(
                channel=where.channel,
                ts=where.message_ts,
                text=renderer.fallback_text(message),
                blocks=renderer.render(message),
            )

    async def _post(self, message: Message, where: Where) -> None:
        if where.response_url and not where.message_ts:  # a slash command: works even where the bot is no member
            await self._respond(where.response_url, message, replace_original=False, public=True)
            return
        # Without a channel, to the person's user id: Slack posts it in the app's Messages tab.
        channel = where.channel or where.user
        await self.client.chat_postMessage(
            channel=channel, text=renderer.fallback_text(message), blocks=renderer.render(message)
        )

    async def _private(self, message: Message, where: Where) -> None:
        if where.response_url:
            await self._respond(where.response_url, message, replace_original=False)
        elif where.channel:
            await self.client.chat_postEphemeral(
                channel=where.channel,
                user=where.user,
                text=renderer.fallback_text(message),
                blocks=renderer.render(message),
            )
        else:
            await self._post(message, Where(where.user))

    async def _respond(
        self, response_url: str, message: Message, *, replace_original: bool, public: bool = False
    ) -> None:
        self._connect()
        webhook = AsyncWebhookClient(response_url, timeout=10, session=self._session)
        response = await webhook.send(
            text=renderer.fallback_text(message),
            blocks=renderer.render(message),
            response_type="in_channel" if public else "ephemeral",
            replace_original=replace_original,
        )
        if response.status_code != 200:
            log.warning("Slack response_url answered %s: %s", response.status_code, response.body)
