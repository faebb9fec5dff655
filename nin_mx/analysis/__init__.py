"""Analysis of reports, pure data: views (blocks, stages), the alignment of two graphs, diffs."""
