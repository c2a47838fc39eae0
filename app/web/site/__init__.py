"""The site origin's routes: one ``APIRouter`` per feature. Routers never import each other;
what they share lives in ``app.web.deps``, ``app.web.render`` or a pure package."""
