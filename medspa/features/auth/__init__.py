"""Staff sign-in (`/login`), sign-out and the "require staff" guard other pages use."""
