"""Face models: detection, mesh, embeddings, age, gender, expressions, wear. Arrays in, dataclasses out."""
