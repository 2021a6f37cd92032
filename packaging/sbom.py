#!/usr/bin/python3
# sbom.py — writes sekisho's SPDX 2.3 JSON SBOM at package build time: every library the staged binaries need (ELF NEEDED, followed through the libraries), mapped to the distribution package it came from.
#
#   sbom.py source-digest SRCDIR
#       print the source digest: the SHA-256 of the tree listing, i.e. of
#       the sorted lines "SHA256  ./PATH\n" of every regular file (its
#       content's digest) and symlink (its target path's digest) under
#       SRCDIR, leaving out debian/ and .git/. Recompute it from a checkout with
#       `git archive HEAD | tar -x -C d && packaging/sbom.py source-digest d`.
#   sbom.py generate --packager dpkg|rpm --name N --version V
#                    --source-digest HEX --root STAGEDIR --output FILE
#       write the SBOM of the binaries staged under STAGEDIR. Needs
#       SOURCE_DATE_EPOCH (the document's creation time) so that two
#       builds of one source write the same bytes.
#
# Nothing is typed by hand: sonames come from `readelf -d`, their paths
# from the dynamic loader (`ldd`), their packages and versions from
# `dpkg-query -S/-W` or `rpm -qf`. Anything that cannot be resolved stops
# the build.
import hashlib
import json
import os
import re
import subprocess
import sys
import time

ENV_C = dict(os.environ, LC_ALL="C")
ENV_C.pop("LD_PRELOAD", None)        # reprotest's faketime is no dependency of ours


def fail(msg):
    sys.exit("sbom.py: " + msg)


def run(argv):
    p = subprocess.run(argv, env=ENV_C, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return p.returncode, p.stdout


def file_digest(path, algo):
    h = hashlib.new(algo)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 16), b""):
            h.update(chunk)
    return h.hexdigest()


def source_digest(top):
    lines = []
    for d, dirs, files in os.walk(top):
        rel = os.path.relpath(d, top)
        if rel == ".":
            dirs[:] = [x for x in dirs if x not in ("debian", ".git")]
        for name in files + [x for x in dirs if os.path.islink(os.path.join(d, x))]:
            p = os.path.join(d, name)
            relp = os.path.normpath(os.path.join(rel, name))
            if os.path.islink(p):
                digest = hashlib.sha256(os.readlink(p).encode()).hexdigest()
            else:
                digest = file_digest(p, "sha256")
            lines.append("%s  ./%s\n" % (digest, relp))
    lines.sort(key=lambda l: l[66:].encode())
    return hashlib.sha256("".join(lines).encode()).hexdigest()


def is_elf(path):
    if os.path.islink(path) or not os.path.isfile(path):
        return False
    with open(path, "rb") as f:
        return f.read(4) == b"\x7fELF"


def needed(path):
    """The NEEDED sonames of an ELF file, in file order."""
    rc, out = run(["readelf", "-d", "--wide", path])
    if rc != 0:
        fail("readelf -d %s failed" % path)
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", out)


def shipped_elves(root):
    found = []
    for d, _, files in os.walk(root):
        for name in files:
            p = os.path.join(d, name)
            if is_elf(p):
                found.append(p)
    return sorted(found)


def loader_paths(binary):
    """soname -> path, as the dynamic loader resolves them for binary."""
    rc, out = run(["ldd", binary])
    if rc != 0:
        fail("ldd %s failed: %s" % (binary, out.strip()))
    paths = {}
    for line in out.splitlines():
        m = re.match(r"\s*(\S+) => (/\S+) \(0x", line)
        if m:
            paths[m.group(1)] = m.group(2)
        m = re.match(r"\s*(/\S+) \(0x", line)          # the loader itself
        if m:
            paths[os.path.basename(m.group(1))] = m.group(1)
    return paths


def toggle_usr(p):
    return p[4:] if p.startswith("/usr/") else "/usr" + p


def candidates(path):
    """The names a package database may know a library by (merged /usr, symlinks)."""
    real = os.path.realpath(path)
    return list(dict.fromkeys([path, toggle_usr(path), real, toggle_usr(real)]))


def owners_dpkg(paths):
    """library path -> its Debian package, with one dpkg-query for all of them."""
    cands = sorted({c for p in paths for c in candidates(p)})
    _, out = run(["dpkg-query", "-S"] + cands)      # exits 1 for the names no package has
    owned = {}
    for line in out.splitlines():
        if line.startswith("diversion ") or ": " not in line:
            continue
        pkgs, p = line.rsplit(": ", 1)
        if ", " in pkgs:
            fail("%s belongs to several packages: %s" % (p, pkgs))
        owned[p] = pkgs
    rc, vendor = run(["dpkg-vendor", "--query", "Vendor"])
    supplier = "Organization: " + vendor.strip() if rc == 0 and vendor.strip() else "NOASSERTION"
    fmt = "${binary:Package}\t${Package}\t${Version}\t${Architecture}\t${source:Package}\t${source:Version}\n"
    names = sorted(set(owned.values()))
    rc, out = run(["dpkg-query", "-W", "-f", fmt] + names)
    if rc != 0:
        fail("dpkg-query -W %s failed" % " ".join(names))
    info = {}
    for row in out.splitlines():
        qual, name, version, arch, src, srcver = row.split("\t")
        info[qual] = info[name] = {
            "key": qual, "name": name, "version": version, "arch": arch, "source": "%s %s" % (src, srcver),
            "supplier": supplier,
            "purl": "pkg:deb/debian/%s@%s?arch=%s" % (name, version, arch)}
    result = {}
    for p in paths:
        hit = [owned[c] for c in candidates(p) if c in owned]
        if not hit:
            fail("no Debian package owns %s (dpkg-query -S)" % p)
        if hit[0] not in info:
            fail("dpkg-query -W knows no %s" % hit[0])
        result[p] = info[hit[0]]
    return result


def owners_rpm(paths):
    """library path -> its RPM package (rpm -qf)."""
    fmt = "%{NAME}\t%{EPOCH}\t%{VERSION}-%{RELEASE}\t%{ARCH}\t%{SOURCERPM}\t%{VENDOR}\n"
    result = {}
    for p in paths:
        for cand in candidates(p):
            rc, out = run(["rpm", "-qf", "--qf", fmt, cand])
            if rc == 0:
                break
        else:
            fail("no RPM package owns %s (rpm -qf)" % p)
        rows = [r for r in out.splitlines() if r]
        if len(rows) != 1:
            fail("%s belongs to several packages: %s" % (p, out.strip()))
        name, epoch, version, arch, srpm, vendor = rows[0].split("\t")
        full = version if epoch == "(none)" else "%s:%s" % (epoch, version)
        ns = re.sub(r"[^a-z0-9.-]", "", vendor.lower().split()[0]) if vendor != "(none)" else ""
        purl = "pkg:rpm/%s/%s@%s?arch=%s" % (ns or "rpm", name, version, arch)
        if epoch != "(none)":
            purl += "&epoch=" + epoch
        result[p] = {"key": "%s.%s" % (name, arch), "name": name, "version": full, "arch": arch,
                     "source": srpm, "purl": purl,
                     "supplier": "Organization: " + vendor if vendor != "(none)" else "NOASSERTION"}
    return result


def spdx_id(kind, text):
    return "SPDXRef-%s-%s" % (kind, re.sub(r"[^A-Za-z0-9.-]", "-", text))


def generate(a):
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if not epoch or not epoch.isdigit():
        fail("SOURCE_DATE_EPOCH is not set: the SBOM's creation time must come from the source")
    created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(epoch)))
    owners = owners_dpkg if a["packager"] == "dpkg" else owners_rpm
    root = a["root"]

    libs = {}            # soname -> {"where": loader path, "path": real path, "needed": [...], "by": set()}
    direct = set()       # sonames a shipped binary needs itself
    shipped = shipped_elves(root)
    if not shipped:
        fail("no ELF files under %s" % root)
    for binary in shipped:
        rel = "/" + os.path.relpath(binary, root)
        where = loader_paths(binary)
        todo = [(s, rel) for s in needed(binary)]
        direct.update(s for s, _ in todo)
        while todo:
            soname, by = todo.pop()
            if soname not in where:
                fail("%s needs %s, which the loader does not find" % (by, soname))
            lib = libs.get(soname)
            if lib is None:
                path = where[soname]
                lib = libs[soname] = {"where": path, "path": os.path.realpath(path), "needed": needed(path),
                                      "by": set()}
                todo.extend((s, soname) for s in lib["needed"])
            lib["by"].add(by)
    pkg_of = owners(sorted(lib["where"] for lib in libs.values()))

    name, version, digest = a["name"], a["version"], a["source-digest"]
    top = spdx_id("Package", name)
    src = spdx_id("Package", name + "-source")
    packages = [{
        "SPDXID": top, "name": name, "versionInfo": version,
        "primaryPackagePurpose": "APPLICATION",
        "supplier": "Organization: sekisho maintainers (maintainers@sekisho.invalid)",
        "downloadLocation": "NOASSERTION", "filesAnalyzed": False,
        "licenseConcluded": "GPL-2.0-or-later", "licenseDeclared": "GPL-2.0-or-later",
        "copyrightText": "2026 the sekisho authors",
        "comment": "the %s package: it DEPENDS_ON the packages of the libraries its programs link and is "
                   "GENERATED_FROM %s" % (a["packager"] == "dpkg" and "Debian" or "RPM", src),
        "sourceInfo": "built from the source tree whose digest is sha256:%s (packaging/sbom.py source-digest)" % digest,
    }, {
        "SPDXID": src, "name": name + "-source", "versionInfo": version,
        "primaryPackagePurpose": "SOURCE",
        "supplier": "Organization: sekisho maintainers (maintainers@sekisho.invalid)",
        "downloadLocation": "NOASSERTION", "filesAnalyzed": False,
        "licenseConcluded": "GPL-2.0-or-later", "licenseDeclared": "GPL-2.0-or-later",
        "copyrightText": "2026 the sekisho authors",
        "checksums": [{"algorithm": "SHA256", "checksumValue": digest}],
        "comment": "checksum: SHA-256 of the source tree listing, not of an archive file: the sorted lines "
                   "'SHA256  ./PATH' of every file except debian/ and .git/ "
                   "(recompute with packaging/sbom.py source-digest DIR)",
    }]
    rels = [
        {"spdxElementId": "SPDXRef-DOCUMENT", "relationshipType": "DESCRIBES", "relatedSpdxElement": top},
        {"spdxElementId": top, "relationshipType": "GENERATED_FROM", "relatedSpdxElement": src},
    ]
    files = []
    seen_pkgs = {}
    for soname in sorted(libs):
        lib = libs[soname]
        pkg = pkg_of[lib["where"]]
        pid = spdx_id("Package", pkg["key"])
        fid = spdx_id("File", soname)
        if pid not in seen_pkgs:
            seen_pkgs[pid] = pkg
            packages.append({
                "SPDXID": pid, "name": pkg["name"], "versionInfo": pkg["version"],
                "primaryPackagePurpose": "LIBRARY", "supplier": pkg["supplier"],
                "downloadLocation": "NOASSERTION", "filesAnalyzed": False,
                "licenseConcluded": "NOASSERTION", "licenseDeclared": "NOASSERTION",
                "copyrightText": "NOASSERTION",
                "sourceInfo": "built from %s" % pkg["source"],
                "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl",
                                  "referenceLocator": pkg["purl"]}],
            })
        files.append({
            "SPDXID": fid, "fileName": lib["where"], "fileTypes": ["BINARY"],
            "checksums": [{"algorithm": "SHA1", "checksumValue": file_digest(lib["path"], "sha1")},
                          {"algorithm": "SHA256", "checksumValue": file_digest(lib["path"], "sha256")}],
            "licenseConcluded": "NOASSERTION", "copyrightText": "NOASSERTION",
            "comment": "soname %s (the file %s); needed by %s" % (soname, lib["path"], ", ".join(sorted(lib["by"]))),
        })
        rels.append({"spdxElementId": pid, "relationshipType": "CONTAINS", "relatedSpdxElement": fid})
        if soname in direct:
            rels.append({"spdxElementId": top, "relationshipType": "DYNAMIC_LINK", "relatedSpdxElement": fid})
            rels.append({"spdxElementId": top, "relationshipType": "DEPENDS_ON", "relatedSpdxElement": pid})
        for dep in lib["needed"]:
            rels.append({"spdxElementId": fid, "relationshipType": "DYNAMIC_LINK",
                         "relatedSpdxElement": spdx_id("File", dep)})
    uniq = {json.dumps(r, sort_keys=True): r for r in rels}
    rels = [uniq[k] for k in sorted(uniq)]
    doc = {
        "spdxVersion": "SPDX-2.3", "dataLicense": "CC0-1.0", "SPDXID": "SPDXRef-DOCUMENT",
        "name": "%s-%s" % (name, version),
        "documentNamespace": "https://sekisho.invalid/spdx/%s-%s-%s-%s" % (name, version, a["packager"], digest),
        "creationInfo": {"created": created,
                         "creators": ["Tool: sekisho-packaging-sbom.py", "Organization: sekisho maintainers"],
                         "comment": "libraries: the ELF NEEDED entries of every shipped binary, followed through "
                                    "the libraries, as resolved on the build system"},
        "documentDescribes": [top],
        "packages": packages[:2] + sorted(packages[2:], key=lambda p: p["SPDXID"]),
        "files": files,
        "relationships": rels,
    }
    out = json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    tmp = a["output"] + ".tmp"
    os.makedirs(os.path.dirname(os.path.abspath(a["output"])), exist_ok=True)
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(out)
    os.chmod(tmp, 0o644)
    os.replace(tmp, a["output"])


def main(argv):
    if len(argv) == 3 and argv[1] == "source-digest":
        print(source_digest(argv[2]))
        return
    if len(argv) < 2 or argv[1] != "generate":
        fail("usage: sbom.py source-digest SRCDIR | generate --packager dpkg|rpm --name N --version V "
             "--source-digest HEX --root DIR --output FILE")
    a = {}
    args = argv[2:]
    keys = ("packager", "name", "version", "source-digest", "root", "output")
    while args:
        k = args.pop(0)
        if not k.startswith("--") or k[2:] not in keys or not args:
            fail("bad argument %s" % k)
        a[k[2:]] = args.pop(0)
    missing = [k for k in keys if k not in a]
    if missing:
        fail("missing --" + ", --".join(missing))
    if a["packager"] not in ("dpkg", "rpm"):
        fail("--packager is dpkg or rpm")
    if not re.fullmatch(r"[0-9a-f]{64}", a["source-digest"]):
        fail("--source-digest is a SHA-256 in hex")
    generate(a)


if __name__ == "__main__":
    main(sys.argv)
