/// OpenAPI part: the seed's wallet endpoints and the admin endpoints.
enum CreditsAPI: APIPart {
    static var paths: OAS.Object {
        [
            "/v1/credits/packages": [
                "get": OAS.operation(
                    "Credit packages on sale (seed §2.1)", tag: "Credits", auth: .none,
                    responses: [200: ("Packages", OAS.object(["packages": OAS.array(OAS.ref("CreditPackage"))]))])
            ],
            "/v1/credits/purchase": [
                "post": OAS.operation(
                    "Buy a package (seed §2.2)", tag: "Credits", auth: .user,
                    body: OAS.object(["package_id": OAS.string, "payment_method": OAS.string, "payment_token": OAS.string]), idempotent: true,
                    responses: [
                        200: ("Paid and credited", OAS.ref("PurchaseResponse")),
                        202: ("Stripe needs customer action; credited by webhook or the reconciler", OAS.ref("PendingPurchase")),
                    ])
            ],
            "/v1/credits/balance": [
                "get": OAS.operation(
                    "Balance and totals (seed §2.3), expired credits and the lots that will expire", tag: "Credits", auth: .user,
                    responses: [
                        200: (
                            "Balance",
                            OAS.object([
                                "balance": OAS.integer, "total_earned": OAS.integer, "total_spent": OAS.integer, "total_expired": OAS.integer,
                                "expiring": OAS.array(OAS.object(["credits": OAS.integer, "expires_at": OAS.dateTime])),
                            ])
                        )
                    ])
            ],
            "/v1/credits/history": [
                "get": OAS.operation(
                    "Ledger rows, newest first (seed §2.4)", tag: "Credits", auth: .user,
                    parameters: [
                        OAS.query("page", ["type": "integer", "minimum": 1, "default": 1], "Page number."),
                        OAS.query("page_size", ["type": "integer", "minimum": 1, "maximum": 100, "default": 20], "Rows per page."),
                        OAS.query("transaction_type", Self.transactionType, "Only rows of this type."),
                    ],
                    responses: [
                        200: (
                            "A page of rows",
                            OAS.object([
                                "transactions": OAS.array(OAS.ref("LedgerRow")), "total": OAS.integer, "page": OAS.integer,
                                "page_size": OAS.integer, "has_more": OAS.boolean,
                            ])
                        )
                    ])
            ],
            "/v1/admin/credits/grants": [
                "post": OAS.operation(
                    "Grant credits as a bonus row (admins); its lot expires at expires_at, after expires_in_days, or never",
                    tag: "Admin", auth: .user,
                    body: OAS.object(
                        [
                            "user_id": OAS.uuid, "credits": ["type": "integer", "minimum": 1, "maximum": 1_000_000], "reason": OAS.string,
                            "expires_at": OAS.dateTime,
                            "expires_in_days": ["type": "integer", "minimum": 1, "maximum": AdminRoutes.grantDaysLimit],
                        ], required: ["user_id", "credits", "reason"]),
                    idempotent: true,
                    responses: [201: ("The bonus row", OAS.ref("Grant"))])
            ],
            "/v1/admin/credits/audit": [
                "get": OAS.operation(
                    "Recompute every balance, running sum and lot from the ledger (admins)", tag: "Admin", auth: .user,
                    responses: [
                        200: (
                            "Audit",
                            OAS.object([
                                "users_checked": OAS.integer,
                                "mismatches": OAS.array(
                                    OAS.object([
                                        "user_id": OAS.uuid, "balance": OAS.integer, "ledger_sum": OAS.integer,
                                        "bad_row_ids": OAS.array(OAS.uuid), "bad_lot_ids": OAS.array(OAS.uuid),
                                    ])),
                                // Lots still holding credits more than two EXPIRY_SWEEP_SECONDS past their expiry.
                                "overdue_lots": OAS.array(
                                    OAS.object([
                                        "lot_id": OAS.uuid, "user_id": OAS.uuid, "remaining": OAS.integer, "expires_at": OAS.dateTime,
                                    ])),
                                // Codes with more redemption rows than max_redemptions, or than their counter says.
                                "promo_codes_over_limit": OAS.array(
                                    OAS.object([
                                        "code": OAS.string, "max_redemptions": OAS.nullable(OAS.integer), "redemptions": OAS.integer,
                                        "redeemed": OAS.integer,
                                    ])),
                                // Payments whose purchase row or card-refund rows do not match the payment.
                                "payment_mismatches": OAS.array(
                                    OAS.object([
                                        "payment_id": OAS.uuid, "user_id": OAS.uuid,
                                        "reason": OAS.string(CreditLedger.PaymentMismatch.Reason.allCases.map(\.rawValue)),
                                    ])),
                                // Referral bonuses one user got more than once for one referred user.
                                "referrals_rewarded_twice": OAS.array(
                                    OAS.object([
                                        "referred_user_id": OAS.uuid, "user_id": OAS.uuid, "bonuses": OAS.integer,
                                    ])),
                                // Subscription periods credited by more than one ledger row.
                                "subscription_periods_granted_twice": OAS.array(
                                    OAS.object([
                                        "subscription_id": OAS.uuid, "period_index": OAS.string, "grants": OAS.integer,
                                    ])),
                            ])
                        )
                    ])
            ],
        ]
    }

    static var ledgerRow: [String: OAS.Object] {
        [
            "id": OAS.uuid, "transaction_type": Self.transactionType, "credits": OAS.integer,
            "balance_after": OAS.integer, "description": OAS.string, "created_at": OAS.dateTime,
        ]
    }

    static var transactionType: OAS.Object { OAS.string(CreditLedger.TransactionType.allCases.map(\.rawValue)) }

    static var schemas: OAS.Object {
        [
            "CreditPackage": OAS.object([
                "id": OAS.string, "credits": OAS.integer, "price": OAS.number, "name": OAS.string, "price_per_credit": OAS.number,
                "currency": OAS.string,
            ]),
            "PurchaseResponse": OAS.object([
                "transaction_id": OAS.uuid, "credits_added": OAS.integer, "new_balance": OAS.integer, "amount_paid": OAS.number,
                "currency": OAS.string,
            ]),
            "PendingPurchase": OAS.object([
                "status": OAS.string(["pending"]), "payment_intent_id": OAS.string, "client_secret": OAS.string,
            ]),
            "LedgerRow": OAS.object(ledgerRow),
            "Grant": OAS.object(ledgerRow.merging(["user_id": OAS.uuid, "expires_at": OAS.nullable(OAS.dateTime)]) { $1 }),
        ]
    }
}
