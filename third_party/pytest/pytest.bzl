"""`pytest_test`: a py_test that runs pytest on its sources under Bazel."""

def pytest_test(name, srcs, deps = [], data = [], args = [], **kwargs):
    """Runs the pytest files `srcs` as one Bazel test.

    JUnit XML goes to $XML_OUTPUT_FILE (Bazel's test.xml), the repository's
    pyproject.toml supplies the pytest settings, and a target that collects no
    test fails instead of passing silently.

    Args:
      name: target name.
      srcs: the test files (test_*.py) and any helpers they import.
      deps: libraries under test; pytest itself is added.
      data: files the tests read.
      args: extra pytest arguments.
      **kwargs: passed to py_test (size, tags, timeout, ...).
    """
    tests = [s for s in srcs if s.split("/")[-1].startswith("test_")]
    native.py_test(
        name = name,
        srcs = ["//third_party/pytest:pytest_main.py"] + srcs,
        main = "//third_party/pytest:pytest_main.py",
        deps = deps + ["@pypi//:site"],
        data = data + ["//:pyproject.toml"],
        args = args + ["$(location %s)" % t for t in tests],
        python_version = "PY3",
        srcs_version = "PY3",
        legacy_create_init = False,
        **kwargs
    )
