"""Which Kolla images a change affects, by the content of their contexts.

``gittree`` reads revisions of a Kolla checkout, ``render`` renders a
revision with that revision's own ``kolla-build --template-only``,
``context`` hashes each image's build context, and ``select`` compares
two revisions and says which images to build and which to reuse.
"""
