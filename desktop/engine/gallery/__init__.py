"""Enrolled people and samples, and the Faiss index derived from them."""
