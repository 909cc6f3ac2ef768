"""tls_certs.py — test certificates made with the `openssl` command at test
time (test_tls.py, and the Node/Chromium tests make theirs the same way):

  ca.crt            the test CA ("Keel Test CA")
  server.crt/.key   localhost + 127.0.0.1, signed by the CA
  server2.crt/.key  the same names, a second key (certificate reload)
  wrongname.crt/.key  only "wrong.example", signed by the CA
  expired.crt/.key  localhost + 127.0.0.1, signed by the CA, expired in 2020
  client.crt/.key   CN=alice, signed by the CA
  client_expired.crt/.key  CN=alice, expired
  other_ca.crt      another CA; other_client.crt/.key signed by it
  server_enc.key    server.key encrypted with the pass "s3cret"
"""

import os
import subprocess

CA_CNF = """[ ca ]
default_ca = test_ca
[ test_ca ]
dir = {dir}
database = {dir}/index.txt
new_certs_dir = {dir}/newcerts
serial = {dir}/serial
default_md = sha256
policy = any
copy_extensions = copy
unique_subject = no
[ any ]
commonName = supplied
"""


def _run(*args, cwd):
    subprocess.run(["openssl"] + list(args), cwd=cwd, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _ca(d, name, cn):
    _run("req", "-x509", "-new", "-nodes", "-newkey", "rsa:2048", "-keyout", name + ".key",
         "-out", name + ".crt", "-days", "30", "-subj", "/CN=" + cn, cwd=d)


def _leaf(d, name, cn, ca="ca", san=None, expired=False):
    req = ["req", "-new", "-nodes", "-newkey", "rsa:2048", "-keyout", name + ".key",
           "-out", name + ".csr", "-subj", "/CN=" + cn]
    if san:
        req += ["-addext", "subjectAltName=" + san]
    _run(*req, cwd=d)
    if expired:
        _run("ca", "-batch", "-config", "ca.cnf", "-cert", ca + ".crt", "-keyfile", ca + ".key",
             "-in", name + ".csr", "-out", name + ".crt", "-notext",
             "-startdate", "20200101000000Z", "-enddate", "20200201000000Z", cwd=d)
    else:
        _run("x509", "-req", "-in", name + ".csr", "-CA", ca + ".crt", "-CAkey", ca + ".key",
             "-CAcreateserial", "-out", name + ".crt", "-days", "30",
             "-copy_extensions", "copy", cwd=d)


def make_certs(d):
    """Every file above in directory d; returns a dict name -> path."""
    os.makedirs(os.path.join(d, "newcerts"), exist_ok=True)
    open(os.path.join(d, "index.txt"), "w").close()
    with open(os.path.join(d, "serial"), "w") as f:
        f.write("1000\n")
    with open(os.path.join(d, "ca.cnf"), "w") as f:
        f.write(CA_CNF.format(dir=d))
    _ca(d, "ca", "Keel Test CA")
    _ca(d, "other_ca", "Other Test CA")
    local = "DNS:localhost,IP:127.0.0.1"
    _leaf(d, "server", "localhost", san=local)
    _leaf(d, "server2", "localhost", san=local)
    _leaf(d, "wrongname", "wrong.example", san="DNS:wrong.example")
    _leaf(d, "expired", "localhost", san=local, expired=True)
    _leaf(d, "client", "alice")
    _leaf(d, "client_expired", "alice", expired=True)
    _leaf(d, "other_client", "mallory", ca="other_ca")
    _run("pkey", "-in", "server.key", "-out", "server_enc.key", "-aes256", "-passout",
         "pass:s3cret", cwd=d)
    return {n: os.path.join(d, n) for n in os.listdir(d)}
