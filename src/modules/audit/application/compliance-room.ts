/** The socket room where compliance officers and district administrators watch the audit trail live. */
export const COMPLIANCE_ROOM = 'compliance';
