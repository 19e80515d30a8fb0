// Calls onReturn when the page is reached by the browser's Back or Forward buttons (or a
// reload): react-router reports those navigations as "POP". The form uses it to show again
// what was typed before it was submitted, instead of its defaults.
import { useEffect } from "react";
import { useLocation, useNavigationType } from "react-router";

export function OnReturn({ onReturn }) {
  const type = useNavigationType();
  const location = useLocation();
  useEffect(() => {
    if (type === "POP" && onReturn) onReturn();
    // once per navigation
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [location.key]);
  return null;
}
