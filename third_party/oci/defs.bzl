"""Small OCI image rules (rules_oci and distroless cannot be fetched here).

- `deb_layer`: Debian packages → one base layer tar, optionally with
  precompiled standard-library bytecode (layer_tool.py debs).
- `files_layer`: files placed under a prefix → one layer tar, optionally pruned,
  with stripped shared libraries and with precompiled bytecode
  (layer_tool.py files).
- `oci_image`: layers + runtime config → OCI layout directory, its tarball and
  the manifest digest (image_tool.py). Each layer is gzipped by its own action,
  so changing the app layer recompresses only that layer.

Every output is byte-for-byte reproducible (see tarutil.py).
"""

OciImageInfo = provider(
    doc = "An assembled OCI image.",
    fields = {
        "layout": "the OCI image layout directory",
        "tar": "the layout as a tarball",
        "digest": "file holding the manifest digest",
    },
)

_LAYER_TOOL = attr.label(
    default = "//third_party/oci:layer_tool",
    executable = True,
    cfg = "host",
)

def _deb_layer_impl(ctx):
    out = ctx.actions.declare_file(ctx.label.name + ".tar")
    report = ctx.actions.declare_file(ctx.label.name + ".report.txt")
    args = ctx.actions.args()
    args.add("debs")
    args.add(out)
    args.add_all(ctx.files.debs)
    args.add_all(ctx.attr.excludes, before_each = "--exclude")
    args.add("--report", report)
    inputs = list(ctx.files.debs)
    if ctx.file.compile_only:
        if not ctx.attr.module_root:
            fail("compile_only needs module_root")
        args.add_all(["--compile-only", ctx.file.compile_only, "--module-root", ctx.attr.module_root])
        inputs.append(ctx.file.compile_only)
    ctx.actions.run(
        executable = ctx.executable._tool,
        arguments = [args],
        inputs = inputs,
        outputs = [out, report],
        mnemonic = "DebLayer",
        progress_message = "Building base layer %s from Debian packages" % ctx.label,
    )
    return [
        DefaultInfo(files = depset([out])),
        OutputGroupInfo(report = depset([report])),
    ]

deb_layer = rule(
    implementation = _deb_layer_impl,
    doc = "Unpacks .deb files into one distroless-style layer with a non-root user 1000.",
    attrs = {
        "debs": attr.label_list(allow_files = [".deb"], mandatory = True),
        "excludes": attr.string_list(doc = "fnmatch patterns on the packages' file paths (no leading /) to leave out"),
        "compile_only": attr.label(
            allow_single_file = True,
            doc = "a file of module names (relative to module_root) to precompile (unchecked-hash .pyc, as `files_layer`'s compile); each must be in the layer",
        ),
        "module_root": attr.string(doc = "with compile_only: the image directory the module names are relative to"),
        "_tool": _LAYER_TOOL,
    },
)

def _repo_relative(f):
    # `../repo/path` for external files, `path` for this workspace's
    # (source or generated alike).
    path = f.short_path
    if path.startswith("../"):
        path = path.split("/", 2)[2]
    return path

def _files_layer_impl(ctx):
    out = ctx.actions.declare_file(ctx.label.name + ".tar")
    report = ctx.actions.declare_file(ctx.label.name + ".report.txt")
    files = list(ctx.files.srcs)
    for target in ctx.attr.runfiles:
        # Only this workspace's files: external repositories (wheels, fonts)
        # have layers of their own.
        # Nor the runfiles' bytecode directories (py_bytecode): the layer
        # compiles its own, for the image's paths.
        files += [
            f
            for f in target[DefaultInfo].default_runfiles.files.to_list()
            if not f.short_path.startswith("../") and not (f.is_directory and f.basename == "__pycache__")
        ]
    lines = {}
    for f in files:
        rel = _repo_relative(f)
        if not rel.startswith(ctx.attr.strip_prefix):
            fail("%s does not start with strip_prefix %r" % (rel, ctx.attr.strip_prefix))
        rel = rel[len(ctx.attr.strip_prefix):]
        lines[f.path] = "%s\t%s/%s" % (f.path, ctx.attr.prefix.rstrip("/"), rel)
    manifest = ctx.actions.declare_file(ctx.label.name + ".manifest")
    ctx.actions.write(manifest, "\n".join(sorted(lines.values())) + "\n")
    args = ctx.actions.args()
    args.add_all(["files", out, manifest, "--report", report])
    args.add_all(ctx.attr.excludes, before_each = "--exclude")
    if ctx.attr.compile:
        args.add("--compile")
    if ctx.attr.strip:
        args.add("--strip")
    inputs = files + [manifest]
    if ctx.file.compile_only:
        if not ctx.attr.compile:
            fail("compile_only needs compile = True")
        args.add_all(["--compile-only", ctx.file.compile_only, "--module-root", ctx.attr.prefix])
        inputs.append(ctx.file.compile_only)
    ctx.actions.run(
        executable = ctx.executable._tool,
        arguments = [args],
        inputs = depset(inputs),
        outputs = [out, report],
        mnemonic = "FilesLayer",
        progress_message = "Building layer %s" % ctx.label,
    )
    return [
        DefaultInfo(files = depset([out])),
        OutputGroupInfo(report = depset([report])),
    ]

files_layer = rule(
    implementation = _files_layer_impl,
    doc = "Places files at `prefix/<path without strip_prefix>` in one layer.",
    attrs = {
        "srcs": attr.label_list(allow_files = True),
        "runfiles": attr.label_list(doc = "targets whose runfiles from this workspace are added (sources + data)"),
        "prefix": attr.string(mandatory = True, doc = "absolute directory in the image"),
        "strip_prefix": attr.string(doc = "removed from each file's repository-relative path"),
        "excludes": attr.string_list(doc = "fnmatch patterns on image paths (no leading /) to leave out"),
        "compile": attr.bool(doc = "precompile .py files (unchecked-hash .pyc for their image path)"),
        "compile_only": attr.label(
            allow_single_file = True,
            doc = "with compile: a file of module names (relative to prefix); only these get a .pyc, and each must be in the layer",
        ),
        "strip": attr.bool(doc = "strip unneeded symbols from ELF executables and shared libraries (Debian's /usr/bin/strip)"),
        "_tool": _LAYER_TOOL,
    },
)

def _oci_image_impl(ctx):
    tool = ctx.executable._tool
    pairs = []
    for i, layer in enumerate(ctx.files.layers):
        gz = ctx.actions.declare_file("%s.layers/%d.tar.gz" % (ctx.label.name, i))
        diffid = ctx.actions.declare_file("%s.layers/%d.diffid" % (ctx.label.name, i))
        ctx.actions.run(
            executable = tool,
            arguments = ["gzip", layer.path, gz.path, diffid.path],
            inputs = [layer],
            outputs = [gz, diffid],
            mnemonic = "GzipLayer",
            progress_message = "Compressing %s" % layer.short_path,
        )
        pairs.append((gz, diffid))
    spec = ctx.actions.declare_file(ctx.label.name + ".spec.json")
    ctx.actions.write(spec, json.encode(struct(
        entrypoint = ctx.attr.entrypoint,
        cmd = ctx.attr.cmd,
        env = ["%s=%s" % kv for kv in ctx.attr.env.items()],
        user = ctx.attr.user,
        workdir = ctx.attr.workdir,
        labels = ctx.attr.labels,
        annotations = ctx.attr.annotations,
        tag = ctx.attr.tag,
        layer_names = [l.label.name for l in ctx.attr.layers],
    )))
    layout = ctx.actions.declare_directory(ctx.label.name + "_layout")
    tar = ctx.outputs.tar
    digest = ctx.outputs.digest
    args = ctx.actions.args()
    args.add_all(["assemble", "--spec", spec, "--layout", layout.path, "--tar", tar, "--digest", digest])
    inputs = [spec]
    if ctx.file.version_file:
        args.add("--version-file", ctx.file.version_file)
        inputs.append(ctx.file.version_file)
    for gz, diffid in pairs:
        args.add_all(["--layer", gz, diffid])
        inputs += [gz, diffid]
    ctx.actions.run(
        executable = tool,
        arguments = [args],
        inputs = inputs,
        outputs = [layout, tar, digest],
        mnemonic = "OciImage",
        progress_message = "Assembling OCI image %s" % ctx.label,
    )
    return [
        # Runfiles too, so tests and `bazel run` targets can use the image as data.
        DefaultInfo(
            files = depset([layout, tar, digest]),
            runfiles = ctx.runfiles(files = [layout, tar, digest]),
        ),
        OciImageInfo(layout = layout, tar = tar, digest = digest),
    ]

oci_image = rule(
    implementation = _oci_image_impl,
    doc = """An OCI image: `<name>_layout/` (with index.json), `<name>.oci.tar`, `<name>.digest`.

    `{version}` in labels, annotations and tag is replaced by `__version__` of
    `version_file`.""",
    attrs = {
        "layers": attr.label_list(allow_files = [".tar"], mandatory = True, doc = "bottom first"),
        "entrypoint": attr.string_list(),
        "cmd": attr.string_list(),
        "env": attr.string_dict(),
        "user": attr.string(),
        "workdir": attr.string(),
        "labels": attr.string_dict(),
        "annotations": attr.string_dict(),
        "tag": attr.string(default = "latest", doc = "org.opencontainers.image.ref.name in index.json"),
        "version_file": attr.label(allow_single_file = [".py"]),
        "_tool": attr.label(
            default = "//third_party/oci:image_tool",
            executable = True,
            cfg = "host",
        ),
    },
    outputs = {
        "tar": "%{name}.oci.tar",
        "digest": "%{name}.digest",
    },
)
