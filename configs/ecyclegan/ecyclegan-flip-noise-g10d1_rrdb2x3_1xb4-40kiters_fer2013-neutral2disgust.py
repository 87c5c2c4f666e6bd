# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
# The source's remedies against the Disgust discriminator overfitting, on top
# of the best ECycleGAN: label flipping with probability 1%, Gaussian instance
# noise with std 0.1 decaying linearly to 0 over training, and 10 generator
# updates per discriminator update. The source's other settings: noise std
# 0.05 (model.instance_noise_std=0.05) and G:D = 5:1
# (model.generator_steps=5).
_base_ = ['./ecyclegan_rrdb2x3_1xb4-40kiters_fer2013-neutral2disgust.py']

max_iters = 40000
model = dict(
    label_flip_prob=0.01,
    instance_noise_std=0.1,
    instance_noise_decay_iters=max_iters,
    generator_steps=10,
)
