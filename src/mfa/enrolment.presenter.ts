import QRCode from "qrcode";
import type { Enrolment } from "./second-factor.service.js";

export type EnrolmentView = { qrSvg: string; secret: string; secretGroups: string };

/**
 * The enrolment page's QR code as inline SVG markup (the CSP allows images from this site only, so
 * neither a data: URL nor a generated image file), and the secret for typing by hand in groups of
 * four. The markup is the library's drawing of the otpauth URI (paths only, no text from the URI).
 */
export async function toEnrolmentView(enrolment: Enrolment): Promise<EnrolmentView> {
  const qrSvg = await QRCode.toString(enrolment.uri, { type: "svg", margin: 2, errorCorrectionLevel: "M" });
  return { qrSvg, secret: enrolment.secret, secretGroups: enrolment.secret.replace(/(.{4})(?=.)/g, "$1 ") };
}
