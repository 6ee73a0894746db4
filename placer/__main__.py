"""``python -m placer``: the same as the ``placer`` console script."""

from placer.launch import main

main()
