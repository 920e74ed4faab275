"""PyTorch modules holding deepface 0.0.103's ``.pth`` state dicts (its PyTorch engine).

One file a family; each exposes zero-argument builders named in a ``Network``'s ``torch``
field (``"deepface.models.torch_nets.<file>:<function>"``). Imported only when the
PyTorch engine is used, so torch is never needed otherwise.
"""
