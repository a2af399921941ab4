"""The demo practice's public sign-in secrets (README.md, "Two commands"): demo data only."""

PASSWORD = "tend-demo-2026"  # noqa: S105 - the documented demo password, printed for the reader
DEMO_TOTP_SECRET = "JBSWY3DPEHPK3PXP"  # noqa: S105 - documented and public, demo data only
