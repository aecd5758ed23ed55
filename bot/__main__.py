"""`python -m bot` runs the partnerbot command line."""

from bot.cli import main

raise SystemExit(main())
