import Foundation
import HTTPTypes
import Testing

@testable import Reelbase

/// The stores' domain errors answer exactly what the routes answered before the stores stopped throwing problems:
/// status, headers and body bytes.
@Suite("Domain errors: the problems they answer are pinned")
struct DomainErrorProblemTests {
    static let notFoundVideo = #"{"code":"not_found","detail":"Video was not found.","status":404,"title":"Not Found","type":"about:blank"}"#
    static let notFoundUser = #"{"code":"not_found","detail":"User was not found.","status":404,"title":"Not Found","type":"about:blank"}"#

    @Test(arguments: [
        (UserStoreError.taken(.email), 409, nil,
         #"{"code":"email_taken","detail":"That email is already registered.","errors":[{"field":"email","message":"Is already taken."}],"status":409,"title":"Conflict","type":"about:blank"}"#),
        (UserStoreError.taken(.username), 409, nil,
         #"{"code":"username_taken","detail":"That username is already registered.","errors":[{"field":"username","message":"Is already taken."}],"status":409,"title":"Conflict","type":"about:blank"}"#),
        (VideoStoreError.ownerNotFound, 401, "Bearer",
         #"{"code":"unauthorized","detail":"The account no longer exists.","status":401,"title":"Unauthorized","type":"about:blank"}"#),
        (VideoStoreError.notFound, 404, nil, notFoundVideo),
        (VideoStoreError.notOwner, 403, nil,
         #"{"code":"forbidden","detail":"Only the owner can delete this video.","status":403,"title":"Forbidden","type":"about:blank"}"#),
        (LikeStoreError.videoNotFound, 404, nil, notFoundVideo),
        (FollowStoreError.userNotFound, 404, nil, notFoundUser),
        (FollowStoreError.cannotFollowSelf, 422, nil,
         #"{"code":"cannot_follow_self","detail":"You cannot follow yourself.","status":422,"title":"Unprocessable Content","type":"about:blank"}"#),
        (BlockStoreError.userNotFound, 404, nil, notFoundUser),
        (BlockStoreError.cannotBlockSelf, 422, nil,
         #"{"code":"cannot_block_self","detail":"You cannot block yourself.","status":422,"title":"Unprocessable Content","type":"about:blank"}"#),
        (BookmarkStoreError.videoNotFound, 404, nil, notFoundVideo),
    ] as [(any ProblemConvertible, Int, String?, String)])
    func answersAsBefore(_ error: any ProblemConvertible, _ status: Int, _ wwwAuthenticate: String?, _ body: String) {
        let problem = error.problem
        #expect(problem.status.code == status)
        #expect(problem.headers[.wwwAuthenticate] == wwwAuthenticate)
        #expect(problem.headers.count == (wwwAuthenticate == nil ? 0 : 1))
        #expect(String(decoding: problem.body, as: UTF8.self) == body)
    }
}
