"""The support team's console: accounts, audit log, and the pages under /admin."""
