"""Sub-commands of the ``placer`` CLI, one module each; each exposes ``register(app)``."""
