"""Running the models: devices, Fashion-MNIST, images, ImageNet checkpoints, weights loading, inference, training."""
