/// OpenAPI part: redeeming promo codes, and the admins' promo-code endpoints.
enum PromosAPI: APIPart {
    static var paths: OAS.Object {
        let dateOrNull = OAS.nullable(OAS.dateTime)
        return [
            "/v1/credits/redeem": [
                "post": OAS.operation(
                    "Redeem a promo code for a bonus row (404 promo_not_found, 409 promo_already_redeemed, 410 promo_expired, 409 promo_exhausted, in that order; failed attempts count against promo_user)",
                    tag: "Credits", auth: .user,
                    body: OAS.object(["code": OAS.string], required: ["code"]), idempotent: true,
                    responses: [
                        200: (
                            "Credited",
                            OAS.object([
                                "transaction_id": OAS.uuid, "credits_added": OAS.integer, "new_balance": OAS.integer, "expires_at": dateOrNull,
                            ])
                        )
                    ])
            ],
            "/v1/admin/promo-codes": [
                "post": OAS.operation(
                    "Create a promo code (admins); a taken code is 409 promo_code_taken", tag: "Admin", auth: .user,
                    body: OAS.object(
                        [
                            "code": ["type": "string", "pattern": "^\\s*[A-Za-z0-9_-]{4,32}\\s*$"],
                            "credits": ["type": "integer", "minimum": NewPromoCode.creditRange.lowerBound, "maximum": NewPromoCode.creditRange.upperBound],
                            "max_redemptions": [
                                "type": "integer", "minimum": NewPromoCode.maxRedemptionsRange.lowerBound,
                                "maximum": NewPromoCode.maxRedemptionsRange.upperBound,
                            ],
                            "expires_at": OAS.dateTime,
                            "credits_ttl_days": ["type": "integer", "minimum": NewPromoCode.ttlDaysRange.lowerBound, "maximum": NewPromoCode.ttlDaysRange.upperBound],
                            "credits_expire_at": OAS.dateTime,
                        ], required: ["code", "credits"]),
                    responses: [201: ("The code", OAS.ref("PromoCode"))]),
                "get": OAS.operation(
                    "Promo codes, newest first (admins)", tag: "Admin", auth: .user, parameters: OAS.pageParameters,
                    responses: [200: ("A page of codes", OAS.page("promo_codes", OAS.ref("PromoCode")))]),
            ],
            "/v1/admin/promo-codes/{code}": [
                "patch": OAS.operation(
                    "Set when a promo code stops being redeemable, to end a leaked one early (admins)", tag: "Admin", auth: .user,
                    parameters: [OAS.pathParameter("code")],
                    body: OAS.object(["expires_at": OAS.dateTime], required: ["expires_at"]),
                    responses: [200: ("The code", OAS.ref("PromoCode"))])
            ],
        ]
    }

    static var schemas: OAS.Object {
        let dateOrNull = OAS.nullable(OAS.dateTime)
        let intOrNull = OAS.nullable(OAS.integer)
        return [
            "PromoCode": OAS.object([
                "code": OAS.string, "credits": OAS.integer, "max_redemptions": intOrNull, "redemptions": OAS.integer,
                "expires_at": dateOrNull, "credits_ttl_days": intOrNull, "credits_expire_at": dateOrNull, "created_at": OAS.dateTime,
            ])
        ]
    }
}
