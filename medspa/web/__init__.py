"""What the HTTP routes (medspa/api) and the Reflex pages (medspa/features) share: sign-in paths, cookie names, messages, input parsing. Imports neither of them."""
