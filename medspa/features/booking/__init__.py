"""The public booking page `/book/[clinic]`: pick a treatment, provider and time, pay the deposit."""
