"""Cross-cutting pieces every domain app uses: service errors, request context, API plumbing."""
