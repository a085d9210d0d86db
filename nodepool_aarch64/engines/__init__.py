"""The one way into each outside engine (Nodepool, Zuul) that several
parts of the project run: what they borrow is imported from here."""
