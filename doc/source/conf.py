project = "rally-kvm-perf"
copyright = "rally-kvm-perf developers"
extensions = []
master_doc = "index"
exclude_patterns = []
html_theme = "alabaster"
