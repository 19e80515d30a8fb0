// Renders its children only while a value of the page's state belongs to the URL shown: a
// dynamic route's parameter (e.g. job_id) read in the browser, at once on navigation, not
// after the server has answered. With `negate` it renders them only while it does not (a
// skeleton in the meantime), so a page never shows the previous URL's data.
import { useParams } from "react-router";

export function RouteMatch({ param, value, negate = false, children }) {
  const params = useParams();
  const matches = params[param] !== undefined && params[param] === value;
  return matches !== Boolean(negate) ? children : null;
}
