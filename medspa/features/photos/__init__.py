"""Photo features of issue 18: the client's photo timeline with side-by-side and slider
comparison (timeline.py, on the client profile), the slider widget (compare_slider.py) and the
portal's Photos tab (portal_tab.py)."""
