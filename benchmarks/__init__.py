"""Side-by-side benchmarks against pandas, polars and DuckDB on the same data (not tests)."""
