"""Share buttons for public pages: Facebook's share page (a plain link), the phone's own share
sheet (which lists Zalo; Zalo's button needs its SDK, a third-party script we do not load), and
the page's address to copy. Without JavaScript: the Facebook link and the address, selectable."""

from urllib.parse import quote

from markupsafe import Markup

SHARE_SCRIPT = (
    '(function(){document.querySelectorAll(".share").forEach(function(s){'
    'var u=s.dataset.url,t=s.dataset.title,n=s.querySelector(".share-native"),c=s.querySelector(".share-copy"),'
    'f=s.querySelector(".share-address");'
    'if(navigator.share&&n){n.hidden=false;n.addEventListener("click",function(){'
    'navigator.share({title:t,url:u}).catch(function(){})})}'
    'if(navigator.clipboard&&c){c.hidden=false;c.addEventListener("click",function(){'
    'navigator.clipboard.writeText(u).then(function(){c.textContent=c.dataset.done})})}'
    'if(f)f.addEventListener("focus",function(){f.select()})})})()'
)


def facebook_share_url(url: str) -> str:
    return "https://www.facebook.com/sharer/sharer.php?u=" + quote(url, safe="")


def share_script_tag() -> Markup:
    return Markup(f"<script>{SHARE_SCRIPT}</script>")  # noqa: S704 - a constant, no user input
