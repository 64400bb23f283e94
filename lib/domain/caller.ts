/** Who is calling: a principal (the token's `oid`, else `sub`) within a tenant (`tid`). */
export interface Caller {
  tenantId: string;
  principalId: string;
}
