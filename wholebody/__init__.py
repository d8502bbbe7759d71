"""Whole-body 2D estimation (PyTorch).

This ``__init__`` imports nothing heavy: ``wholebody.keypoints``, ``wholebody.camera``,
``wholebody.rotations`` and ``wholebody.media`` are numpy-only and usable without torch.
"""
