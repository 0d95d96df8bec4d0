"""Knowledge import: turn help-centre content (HTML pages, zips, Zendesk and Intercom exports, PDFs,
Markdown) into the Markdown articles app/retrieval/articles.py reads.

An engine: no Flask, no database. `convert` reads a source into articles, `writer.plan` compares them
with the knowledge folder, `writer.publish` writes them (temporary folder first, then moved into place).
"""
