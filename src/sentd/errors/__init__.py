"""Error catalog for sentd: error specs and the HTML pages that document them."""
