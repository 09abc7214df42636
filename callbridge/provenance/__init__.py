"""C2PA provenance: every exported video says it was made with AI, signed by the installation's exhibit CA."""

from callbridge.provenance.authority import ExhibitAuthority
from callbridge.provenance.sign import sign_video
from callbridge.provenance.verify import Verdict, verify_file

__all__ = ["ExhibitAuthority", "Verdict", "sign_video", "verify_file"]
