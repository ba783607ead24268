"""Clinical charting: treatment notes per visit (products, lots, units, areas), signed and amended."""
