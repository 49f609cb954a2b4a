"""Widgets shared by every admin section: lazy tables, forms with field errors, dialogs."""
