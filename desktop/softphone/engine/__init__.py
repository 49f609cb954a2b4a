"""The softphone engine: pjsua2 accounts, calls and media, with no Qt in it.

Empty until the softphone issue; the package exists now so the import contract that keeps it
free of widgets ("The softphone engine imports no widgets") has something to guard from the
first line written here.
"""
