import type { RequestHandler } from "express";
import { clientAddress } from "../http/client-address.js";
import { toNotificationsView } from "./notification.presenter.js";
import type { NotificationService } from "./notification.service.js";

const EVENT_ID = /^[1-9][0-9]{0,14}$/;

/** The orderer's notices: the list, opening one (marks it read), and "mark all read". */
export function createNotificationHandlers(deps: { notifications: NotificationService }) {
  const { notifications } = deps;

  /** GET /notifications(?before=ID): the notices, newest first, unread ones marked for this officer. */
  const list: RequestHandler = (req, res) => {
    const raw = typeof req.query.before === "string" ? req.query.before : "";
    const before = EVENT_ID.test(raw) ? Number(raw) : undefined;
    const page = notifications.notices(req.user!, before);
    res.render("notifications/list", toNotificationsView(page.notices, page.next));
  };

  /** GET /notifications/:id: marks the notice read and redirects (303) to its guarantee or contract; 404 for another orderer's. */
  const open: RequestHandler = (req, res, next) => {
    const id = String(req.params.id);
    const target = EVENT_ID.test(id) ? notifications.open(req.user!, Number(id)) : undefined;
    if (!target) return next();
    res.redirect(303, target);
  };

  /** POST /notifications/read: every notice so far counts as read for this officer; back to the list. */
  const markAllRead: RequestHandler = (req, res) => {
    notifications.markAllRead(req.user!, clientAddress(req));
    res.redirect(303, "/notifications");
  };

  return { list, open, markAllRead };
}
