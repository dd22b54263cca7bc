// Notifications: the event as plain data, its message forms, and the senders the outbox
// delivers through. Whether a channel fires is decided in src/semantics/notify.ts.

export { notificationKey, toEnv, toPayload, outputTail, OUTPUT_TAIL_BYTES, type NotificationEvent } from './event.js';
export { formatMail, subject } from './mail.js';
export { send, sendEmail, sendHttp, sendShell, SEND_TIMEOUT_MS, type SendOptions, type SendResult } from './send.js';
export { checkChannels, findSendmail } from './sendmail.js';
export { shouldNotify, channelsToNotify } from '../semantics/notify.js';
