"""Finding answers in the knowledge base: articles, embeddings, index and search."""
