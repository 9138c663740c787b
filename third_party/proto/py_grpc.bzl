"""Python protobuf and gRPC stubs generated at build time (never committed)."""

load("//third_party/python:bytecode.bzl", "py_bytecode")

def _py_grpc_gen_impl(ctx):
    outs = []
    for src in ctx.files.srcs:
        if not src.path.endswith(".proto"):
            fail("%s is not a .proto file" % src.path)
        base = src.basename[:-len(".proto")]
        for suffix in ["_pb2.py", "_pb2_grpc.py"]:
            outs.append(ctx.actions.declare_file(base + suffix))
    root = ctx.bin_dir.path
    if ctx.label.workspace_root:
        fail("py_grpc_library is only for protos of this workspace")
    args = ctx.actions.args()
    args.add("-I.")
    args.add("--python_out=" + root)
    args.add("--grpc_python_out=" + root)
    args.add_all(ctx.files.srcs)
    ctx.actions.run(
        executable = ctx.executable._protoc,
        arguments = [args],
        inputs = ctx.files.srcs,
        outputs = outs,
        mnemonic = "GrpcPython",
        progress_message = "Generating Python gRPC stubs for %s" % ctx.label,
    )
    return [DefaultInfo(files = depset(outs))]

_py_grpc_gen = rule(
    implementation = _py_grpc_gen_impl,
    attrs = {
        "srcs": attr.label_list(allow_files = [".proto"], mandatory = True),
        "_protoc": attr.label(
            default = "//third_party/proto:grpc_protoc",
            executable = True,
            cfg = "host",
        ),
    },
)

def py_grpc_library(name, srcs, **kwargs):
    """Generates `<base>_pb2.py` and `<base>_pb2_grpc.py` for each proto.

    The files land beside their .proto in the output tree, so
    `from proto import tercen_pb2` works for code that depends on `name`;
    their bytecode comes with them (py_bytecode).

    Args:
      name: the py_library to create.
      srcs: .proto files of this package.
      **kwargs: passed to the py_library (visibility, ...).
    """
    _py_grpc_gen(name = name + "_gen", srcs = srcs)
    py_bytecode(name = name + "_bytecode", srcs = [":" + name + "_gen"])
    native.py_library(
        name = name,
        srcs = [":" + name + "_gen"],
        data = [":" + name + "_bytecode"],
        deps = ["@pypi//:site"],
        **kwargs
    )
