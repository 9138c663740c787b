"""Repository rule: fonts taken from a Debian package pinned by sha256.

The .deb is fetched with Bazel's downloader (so it lands in the repository
cache), unpacked with the pinned interpreter's standard library, and the chosen
files are laid out as the Python package `ggrs_fonts` beside its module
(//third_party/fonts:ggrs_fonts_init.py), so code finds them the same way under
Bazel, in the image and in a virtualenv.
"""

_BUILD = """\
package(default_visibility = ["//visibility:public"])

py_library(
    name = "fonts",
    srcs = ["ggrs_fonts/__init__.py"],
    data = glob(["ggrs_fonts/*.ttf", "ggrs_fonts/LICENSE"]),
    imports = ["."],
)

filegroup(
    name = "files",
    srcs = glob(["ggrs_fonts/**"]),
)
"""

def _deb_fonts_impl(rctx):
    rctx.download(url = rctx.attr.urls, output = "pkg.deb", sha256 = rctx.attr.sha256)
    args = [rctx.attr.python, str(rctx.path(rctx.attr._extract)), "pkg.deb", "ggrs_fonts"]
    for member, name in rctx.attr.files.items():
        args.append("%s=%s" % (member, name))
    res = rctx.execute(args, quiet = True)
    if res.return_code != 0:
        fail("unpacking %s failed:\n%s%s" % (rctx.attr.urls[0], res.stdout, res.stderr))
    rctx.delete("pkg.deb")
    rctx.symlink(rctx.attr.init, "ggrs_fonts/__init__.py")
    rctx.file("WORKSPACE", 'workspace(name = "%s")\n' % rctx.name)
    rctx.file("BUILD.bazel", _BUILD)

deb_fonts = repository_rule(
    implementation = _deb_fonts_impl,
    attrs = {
        "urls": attr.string_list(mandatory = True),
        "sha256": attr.string(mandatory = True),
        "files": attr.string_dict(mandatory = True, doc = "path inside the package → file name"),
        "init": attr.label(default = "//third_party/fonts:ggrs_fonts_init.py", allow_single_file = True),
        "python": attr.string(default = "/usr/bin/python3"),
        "_extract": attr.label(default = "//third_party/fonts:deb_extract.py", allow_single_file = True),
    },
)
