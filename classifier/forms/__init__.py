"""Forms, one module per area: field shape only; what makes a file or a sample acceptable is decided in
``classifier.uploads`` and ``classifier.services``."""
