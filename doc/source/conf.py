# Sphinx configuration for nodepool-aarch64.

project = 'nodepool-aarch64'
copyright = 'nodepool-aarch64 developers'

extensions = [
    'zuul_sphinx',
]

# zuul-sphinx finds ../../zuul.d and ../../roles by itself.
master_doc = 'index'
exclude_patterns = ['build']
html_theme = 'alabaster'
