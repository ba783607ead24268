"""The staff calendar (`/calendar`): providers, rooms and week views, updated live."""
