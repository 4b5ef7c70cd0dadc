"""The notes' single-topic demos, one module per page: feedforward families, recurrence, the transformer FFN, pooling,
blocks and layers, Inception variants, residual blocks, Hopfield recall, RBM training, and the notes' own text."""
