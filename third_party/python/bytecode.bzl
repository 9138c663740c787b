"""py_bytecode: checked-hash .pyc files for a package's Python sources.

Bazel's runfiles trees are not where an interpreter may write __pycache__ (and
PYTHONDONTWRITEBYTECODE often forbids it), so every new process of a
`bazel run` or test target would compile each module again: ~70 ms for ggrs
alone. This rule builds the bytecode instead, one `__pycache__` directory per
source directory, placed in the runfiles beside the sources; add it to a
py_library's `data`.
"""

def _py_bytecode_impl(ctx):
    package = ctx.label.package
    by_directory = {}
    for src in ctx.files.srcs:
        if not src.short_path.startswith(package + "/"):
            fail("%s is not in package %s: give py_bytecode its own package's sources" % (src.short_path, package))
        relative = src.short_path[len(package) + 1:]
        directory = relative.rpartition("/")[0]
        by_directory.setdefault(directory, []).append(src)
    caches = []
    for directory in sorted(by_directory):
        sources = by_directory[directory]
        cache = ctx.actions.declare_directory(directory + "/__pycache__" if directory else "__pycache__")
        args = ctx.actions.args()
        args.add(cache.path)
        args.add_all(sources)
        ctx.actions.run(
            executable = ctx.executable._compiler,
            arguments = [args],
            inputs = sources,
            outputs = [cache],
            mnemonic = "PyBytecode",
            progress_message = "Compiling %d Python modules in %s" % (len(sources), cache.short_path),
        )
        caches.append(cache)
    return [DefaultInfo(files = depset(caches), runfiles = ctx.runfiles(files = caches))]

py_bytecode = rule(
    implementation = _py_bytecode_impl,
    doc = "Checked-hash bytecode of `srcs` in a __pycache__ directory beside each source directory.",
    attrs = {
        "srcs": attr.label_list(allow_files = [".py"], doc = "this package's .py files"),
        "_compiler": attr.label(
            default = "//third_party/python:compile_bytecode",
            executable = True,
            cfg = "exec",
        ),
    },
)
