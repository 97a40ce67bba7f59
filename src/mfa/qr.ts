import QRCode from 'qrcode';

/**
 * The enrolment QR code as an SVG document rendered on the server: no script,
 * no external image, so it passes the login pages' strict CSP as an <img>
 * data: URI. Error correction M, as authenticator apps scan it comfortably.
 */
export async function qrSvg(text: string): Promise<string> {
  return QRCode.toString(text, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
}
