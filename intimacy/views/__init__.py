"""Tend's homework views, one module per screen; each fetches through the access gate, then calls a
service (writes) or a selector (reads)."""
